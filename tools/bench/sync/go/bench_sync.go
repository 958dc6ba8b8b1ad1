// SPDX-License-Identifier: MIT
// bench_sync.go - Go's side of tools/bench/sync: the same work, the same output
// ("<name> <procs> <ns per op>"), best of 3 runs. See bench_sync.c for what each measures.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

const uncontendedOps = 20000000
const ops = 10000000

var mu sync.Mutex
var rw sync.RWMutex
var counter int64

func benchUncontended() float64 {
	t0 := time.Now()
	for i := 0; i < uncontendedOps; i++ {
		mu.Lock()
		counter++
		mu.Unlock()
	}
	return float64(time.Since(t0).Nanoseconds()) / uncontendedOps
}

func contend(n int) float64 {
	per := ops / n
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			for j := 0; j < per; j++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(per*n)
}

func benchRW() float64 {
	n := 8 * runtime.GOMAXPROCS(0)
	per := ops / n
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			var sink int64
			for j := 0; j < per; j++ {
				if j%100 == 0 {
					rw.Lock()
					counter++
					rw.Unlock()
				} else {
					rw.RLock()
					sink += counter
					rw.RUnlock()
				}
			}
			_ = sink
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(per*n)
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
	benches := []struct {
		name string
		fn   func() float64
	}{
		{"uncontended", benchUncontended},
		{"contend-2", func() float64 { return contend(2) }},
		{"contend-8", func() float64 { return contend(8) }},
		{"contend-64", func() float64 { return contend(64) }},
		{"rw-read-mostly", benchRW},
	}
	only := os.Getenv("BENCH_ONLY") // one benchmark by name
	for _, b := range benches {
		if only != "" && only != b.name {
			continue
		}
		for _, p := range procs {
			runtime.GOMAXPROCS(p)
			best := 0.0
			for run := 0; run < 3; run++ {
				r := b.fn()
				if run == 0 || r < best {
					best = r
				}
			}
			fmt.Printf("%s %d %.1f\n", b.name, p, best)
		}
	}
}
