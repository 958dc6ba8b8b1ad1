// SPDX-License-Identifier: MIT
// bench_sched.go - Go's side of tools/bench/sched: the same work, the same output
// ("<name> <procs> <ns per op>"), best of 3 runs. See bench_sched.c for what each measures.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

func rssBytes() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res int64
	fmt.Sscanf(string(b), "%d %d", &size, &res)
	return float64(res * 4096)
}

const yields = 200000

func benchYield() float64 {
	n := 2 * runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			for j := 0; j < yields; j++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(yields*n) * float64(runtime.GOMAXPROCS(0))
}

const spawns = 200000

func benchSpawnWg() float64 {
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(spawns)
	for i := 0; i < spawns; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / spawns
}

func benchSpawnEach() float64 {
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < spawns; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
		wg.Wait()
	}
	return float64(time.Since(t0).Nanoseconds()) / spawns
}

func skynet(num, size int64, parent *sync.WaitGroup, out *int64) {
	if size == 1 {
		*out = num
	} else {
		var kids [10]int64
		var wg sync.WaitGroup
		sub := size / 10
		wg.Add(10)
		for i := int64(0); i < 10; i++ {
			go skynet(num+i*sub, sub, &wg, &kids[i])
		}
		wg.Wait()
		var s int64
		for _, k := range kids {
			s += k
		}
		*out = s
	}
	if parent != nil {
		parent.Done()
	}
}

func benchSkynet() float64 {
	var sum int64
	t0 := time.Now()
	skynet(0, 1000000, nil, &sum)
	if sum != 499999500000 {
		fmt.Fprintln(os.Stderr, "skynet: wrong sum", sum)
	}
	return float64(time.Since(t0).Nanoseconds()) / 1111111
}

func benchSleep() float64 {
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(10000)
	for i := 0; i < 10000; i++ {
		go func() {
			time.Sleep(time.Millisecond)
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds())
}

func benchRss() float64 {
	const parked = 100000
	var pwg, release sync.WaitGroup
	runtime.GC()
	r0 := rssBytes()
	release.Add(1)
	pwg.Add(parked)
	for i := 0; i < parked; i++ {
		go func() {
			pwg.Done()
			release.Wait()
		}()
	}
	pwg.Wait()
	r := (rssBytes() - r0) / parked
	release.Done()
	return r
}

func main() {
	procs := []int{1, 2}
	if len(os.Args) > 1 {
		procs = nil
		for _, a := range os.Args[1:] {
			p, _ := strconv.Atoi(a)
			procs = append(procs, p)
		}
	}
	debug.SetGCPercent(100)
	benches := []struct {
		name string
		fn   func() float64
	}{
		{"rss-parked", benchRss},
		{"yield", benchYield},
		{"spawn-wg", benchSpawnWg},
		{"spawn-each", benchSpawnEach},
		{"skynet", benchSkynet},
		{"sleep-1ms", benchSleep},
	}
	only := os.Getenv("BENCH_ONLY") // one benchmark by name
	for _, b := range benches {
		if only != "" && only != b.name {
			continue
		}
		for _, p := range procs {
			runtime.GOMAXPROCS(p)
			best := 0.0
			runs := 3
			if b.name == "rss-parked" {
				runs = 1 // the first run, before anything is cached
			}
			for run := 0; run < runs; run++ {
				r := b.fn()
				if run == 0 || r < best {
					best = r
				}
			}
			fmt.Printf("%s %d %.1f\n", b.name, p, best)
		}
	}
}
