// SPDX-License-Identifier: MIT
//
// The Go twin of bench_chan.c: the same loops, the same output
// ("name<TAB>procs<TAB>ns/op"), so tools/bench/chan/run.sh can print ratios.
//
//	bench-chan-go [-p procs] [-t ms] [name...]
package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"sync"
	"time"
)

var target time.Duration

func pingpong(n int) time.Duration {
	ping, pong := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v
		}
		wg.Done()
	}()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	wg.Wait()
	return time.Since(t0)
}

func buffered(n int) time.Duration {
	c := make(chan int, 128)
	var wg sync.WaitGroup
	wg.Add(1)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			c <- i
		}
		wg.Done()
	}()
	for i := 0; i < n; i++ {
		<-c
	}
	wg.Wait()
	return time.Since(t0)
}

func select4(n int) time.Duration {
	var c [4]chan int
	for i := range c {
		c[i] = make(chan int, 1)
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		c[i&3] <- 1
		select {
		case <-c[0]:
		case <-c[1]:
		case <-c[2]:
		case <-c[3]:
		}
	}
	return time.Since(t0)
}

func select4Server(n int) time.Duration {
	var req [4]chan int
	for i := range req {
		req[i] = make(chan int)
	}
	reply := make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			var v int
			select {
			case v = <-req[0]:
			case v = <-req[1]:
			case v = <-req[2]:
			case v = <-req[3]:
			}
			reply <- v
		}
		wg.Done()
	}()
	for i := 0; i < n; i++ {
		req[i&3] <- i
		<-reply
	}
	wg.Wait()
	return time.Since(t0)
}

const tree = 1000

func ctxTree(n int) time.Duration {
	rounds := (n + tree - 1) / tree
	cancels := make([]context.CancelFunc, tree)
	t0 := time.Now()
	for r := 0; r < rounds; r++ {
		root, cancel := context.WithCancel(context.Background())
		for i := 0; i < tree; i++ {
			_, cancels[i] = context.WithCancel(root)
		}
		cancel()
		for i := 0; i < tree; i++ {
			cancels[i]()
		}
	}
	return time.Since(t0) * time.Duration(n) / time.Duration(rounds*tree)
}

func ctxTreeWaiters(n int) time.Duration {
	rounds := (n + tree - 1) / tree
	cancels := make([]context.CancelFunc, tree)
	t0 := time.Now()
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		root, cancel := context.WithCancel(context.Background())
		wg.Add(tree)
		for i := 0; i < tree; i++ {
			var ctx context.Context
			ctx, cancels[i] = context.WithCancel(root)
			go func() {
				<-ctx.Done()
				wg.Done()
			}()
		}
		cancel()
		wg.Wait()
		for i := 0; i < tree; i++ {
			cancels[i]()
		}
	}
	return time.Since(t0) * time.Duration(n) / time.Duration(rounds*tree)
}

func timerCreateStop(n int) time.Duration {
	t0 := time.Now()
	for i := 0; i < n; i++ {
		t := time.NewTimer(time.Hour)
		t.Stop()
	}
	return time.Since(t0)
}

func selectTimerReady(n int) time.Duration {
	t := time.NewTimer(time.Hour)
	ready := make(chan int, 1)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		ready <- 1
		select {
		case <-t.C:
		case <-ready:
		}
	}
	d := time.Since(t0)
	t.Stop()
	return d
}

type bench struct {
	name  string
	fn    func(int) time.Duration
	start int
}

var benches = []bench{
	{"pingpong_unbuffered", pingpong, 1000},
	{"buffered128_prodcons", buffered, 10000},
	{"select4_one_ready", select4, 10000},
	{"select4_server_pingpong", select4Server, 1000},
	{"ctx_cancel_tree1000", ctxTree, 1000},
	{"ctx_cancel_tree1000_waiters", ctxTreeWaiters, 1000},
	{"timer_create_stop", timerCreateStop, 10000},
	{"select_timer_and_ready", selectTimerReady, 10000},
}

func main() {
	procs := flag.Int("p", runtime.NumCPU(), "GOMAXPROCS")
	ms := flag.Int("t", 300, "target ms per measurement")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	target = time.Duration(*ms) * time.Millisecond
	want := map[string]bool{}
	for _, a := range flag.Args() {
		want[a] = true
	}
	for _, b := range benches {
		if len(want) > 0 && !want[b.name] {
			continue
		}
		n := b.start
		t := b.fn(n)
		for t < target && n < 1<<40 {
			next := n * 10
			if t > 0 {
				next = int(float64(n) * float64(target) / float64(t) * 1.2)
			}
			if next > n*10 {
				next = n * 10
			}
			if next <= n {
				next = n * 2
			}
			n = next
			t = b.fn(n)
		}
		// best of five runs of that length, as bench_chan.c does
		for r := 0; r < 4; r++ {
			if t2 := b.fn(n); t2 < t {
				t = t2
			}
		}
		fmt.Printf("%s\t%d\t%.1f\n", b.name, *procs, float64(t.Nanoseconds())/float64(n))
	}
}
