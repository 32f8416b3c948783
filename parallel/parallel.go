// Package parallel splits loops over large arrays across the CPU cores: the
// evaluator's host work (input draws, float64 references, comparisons of
// 16M-element outputs) would otherwise bound how many candidates a GPU can
// evaluate per minute.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls fn on the consecutive ranges [0, chunk), [chunk, 2*chunk), ...
// that cover [0, n), on up to GOMAXPROCS goroutines. The ranges do not
// depend on the number of cores, so a per-range computation (a random
// stream per chunk, say) is reproducible. One range, or one core, runs on
// the caller's goroutine.
func For(n, chunk int, fn func(lo, hi int)) {
	chunks := (n + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		for lo := 0; lo < n; lo += chunk {
			fn(lo, min(lo+chunk, n))
		}
		return
	}
	// Workers take chunks in turn rather than a fixed share each, so uneven
	// chunks or a busy core do not hold up the rest.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := int(next.Add(1) - 1); c < chunks; c = int(next.Add(1) - 1) {
				lo := c * chunk
				fn(lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
}
