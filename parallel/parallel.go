// Package parallel splits loops over large arrays across the CPU cores: the
// evaluator's host work (input draws, float64 references, comparisons of
// 16M-element outputs) would otherwise bound how many candidates a GPU can
// evaluate per minute.
package parallel

import (
	"runtime"
	"sync"
)

// For calls fn on consecutive ranges [lo, hi) of at most chunk indices that
// cover [0, n), on up to GOMAXPROCS goroutines. The ranges do not depend on
// the number of cores, so a per-range computation is reproducible. A loop
// of one chunk runs on the caller's goroutine.
func For(n, chunk int, fn func(lo, hi int)) {
	if n <= chunk {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	chunks := (n + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	next := make(chan int, chunks)
	for c := range chunks {
		next <- c
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				fn(c*chunk, min((c+1)*chunk, n))
			}
		}()
	}
	wg.Wait()
}
