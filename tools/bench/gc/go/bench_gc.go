// SPDX-License-Identifier: MIT
//
// bench_gc.go - the Go twin of tools/bench/gc/bench_gc.c: the same workloads, the same
// output line (key=value), so that run.sh puts Go's collector beside libgochan's and Boehm's.
//
//	trees DEPTH   binary-trees: total time
//	churn MB N    a live heap of MB megabytes of 64-byte pointer objects, N allocations each
//	              replacing a random live object: ns per allocation, every stop-the-world
//	              pause (runtime.MemStats.PauseNs: Go's two per cycle, summed as Go reports),
//	              the mutator's stalls (the time of each run of 64 allocations: p99.9, max)
//	              and runtime.MemStats.GCCPUFraction
//
// GOMAXPROCS comes from the environment, as for the C program.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"syscall"
	"time"
)

type node struct {
	left, right *node
}

// 64 bytes: two pointers and payload, as struct obj in bench_gc.c
type obj struct {
	a, b *obj
	pad  [6]uint64
}

func tree(d int) *node {
	n := &node{}
	if d > 0 {
		n.left = tree(d - 1)
		n.right = tree(d - 1)
	}
	return n
}

func check(n *node) int64 {
	if n.left != nil {
		return 1 + check(n.left) + check(n.right)
	}
	return 1
}

func trees(depth int) int64 {
	max := depth
	if max < 6 {
		max = 6
	}
	var sum int64
	sum += check(tree(max + 1))
	longlived := tree(max)
	for d := 4; d <= max; d += 2 {
		iters := int64(1) << (max - d + 4)
		for i := int64(0); i < iters; i++ {
			sum += check(tree(d))
		}
	}
	sum += check(longlived)
	return sum
}

var live []*obj

// the mutator's stalls: the time of each run of stallEvery allocations, in ns
const stallEvery = 64

var stalls []float64

func churn(mb, n int64) {
	cnt := uint64(mb) * (1 << 20) / 64
	s := uint64(88172645463325252)
	stalls = make([]float64, 0, n/stallEvery+1)
	live = make([]*obj, cnt)
	for i := range live {
		live[i] = &obj{}
	}
	t := time.Now()
	for i := int64(0); i < n; i++ {
		o := &obj{}
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		k := s % cnt
		o.a = live[(k+1)%cnt]
		live[k] = o
		if i%stallEvery == stallEvery-1 {
			t1 := time.Now()
			stalls = append(stalls, float64(t1.Sub(t).Nanoseconds()))
			t = t1
		}
	}
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: bench_gc_go trees DEPTH | churn MB N")
		os.Exit(2)
	}
	mode := os.Args[1]
	a, _ := strconv.ParseInt(os.Args[2], 10, 64)
	n := int64(10000000)
	if len(os.Args) > 3 {
		n, _ = strconv.ParseInt(os.Args[3], 10, 64)
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var result int64
	t0 := time.Now()
	if mode == "trees" {
		result = trees(int(a))
	} else {
		churn(a, n)
	}
	t := time.Since(t0).Seconds()
	runtime.ReadMemStats(&ms1)

	// every pause of the run's cycles (the last 256 at most, as MemStats keeps them);
	// $BENCH_GC_TIMELINE: "ms us" lines, each pause's end from the run's start and its
	// length, for run.sh's picture
	var pauses []float64
	var timeline *os.File
	if path := os.Getenv("BENCH_GC_TIMELINE"); path != "" {
		timeline, _ = os.Create(path)
	}
	for c := ms0.NumGC + 1; c <= ms1.NumGC; c++ {
		if ms1.NumGC-c >= 256 {
			continue
		}
		ns := float64(ms1.PauseNs[(c+255)%256])
		pauses = append(pauses, ns)
		if timeline != nil {
			end := float64(int64(ms1.PauseEnd[(c+255)%256]) - t0.UnixNano())
			fmt.Fprintf(timeline, "%.3f %.1f\n", end/1e6, ns/1e3)
		}
	}
	if timeline != nil {
		timeline.Close()
	}
	sort.Float64s(pauses)
	med, max := 0.0, 0.0
	if len(pauses) > 0 {
		med, max = pauses[len(pauses)/2], pauses[len(pauses)-1]
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("time_s=%.3f", t)
	if mode == "churn" {
		p999, smax := 0.0, 0.0
		if len(stalls) > 0 {
			sort.Float64s(stalls)
			p999 = stalls[int(float64(len(stalls))*0.999)]
			smax = stalls[len(stalls)-1]
		}
		fmt.Printf(" ns_per_alloc=%.1f stall_p999_us=%.1f stall_max_us=%.1f",
			t*1e9/float64(n), p999/1e3, smax/1e3)
	}
	fmt.Printf(" gc_cpu_pct=%.1f", 100*ms1.GCCPUFraction)
	fmt.Printf(" cycles=%d pauses=%d pause_med_us=%.1f pause_max_us=%.1f rss_mb=%.1f check=%d\n",
		ms1.NumGC-ms0.NumGC, len(pauses), med/1e3, max/1e3, float64(ru.Maxrss)/1024, result)
}
