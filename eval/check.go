package eval

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"discover/parallel"
	"discover/target"
)

// poisonBits is a quiet NaN: any output element the kernel does not write
// stays NaN (or an absurd index) and fails the comparison.
const poisonBits = 0x7fc00000

// guardBits fills the guard region after every buffer. A write past the end
// of a buffer changes it.
const guardBits = 0xdeadbeef

// guardBytes is the size of the guard region after a buffer of n bytes:
// at least 4 KiB, and a quarter of the buffer so that a kernel indexing with
// the wrong stride is caught too.
func guardBytes(n int) int {
	return max(4096, n/4/4*4)
}

// chunk is the unit of host work split across cores.
const chunk = 1 << 16

func firstChanged(b []byte, bits uint32) int {
	for i := 0; i+4 <= len(b); i += 4 {
		if binary.LittleEndian.Uint32(b[i:]) != bits {
			return i / 4
		}
	}
	return -1
}

// bytesOf is v's memory as bytes, without a copy: what a device holds is
// little-endian, as is every host Go runs GPUs on (amd64, arm64), and
// encoding a 64 MB tensor element by element costs more than its upload.
func bytesOf(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

// maxAbs is max|ref|, the scale atol applies to.
func maxAbs(ref []float64) float64 {
	scale := 0.0
	var mu sync.Mutex
	parallel.For(len(ref), chunk, func(lo, hi int) {
		m := 0.0
		for _, r := range ref[lo:hi] {
			if a := math.Abs(r); a > m {
				m = a
			}
		}
		mu.Lock()
		scale = max(scale, m)
		mu.Unlock()
	})
	return scale
}

// compare checks one output against its float64 reference, whose max|ref|
// is scale. Float outputs pass when |out-ref| <= atol*scale + rtol*|ref|
// elementwise and are finite; uint32 outputs must match exactly.
func compare(tn target.Tensor, tol target.Tolerance, got []byte, ref []float64, scale float64) error {
	if tn.DType == target.Uint32 {
		for i, want := range ref {
			v := binary.LittleEndian.Uint32(got[4*i:])
			if float64(v) != want {
				return fmt.Errorf("%s[%d] = %d, want %d", tn.Name, i, v, uint32(want))
			}
		}
		return nil
	}
	var mu sync.Mutex
	bad, first := 0, len(ref)
	parallel.For(len(ref), chunk, func(lo, hi int) {
		n, f := 0, -1
		for i := lo; i < hi; i++ {
			x := float64(math.Float32frombits(binary.LittleEndian.Uint32(got[4*i:])))
			if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x-ref[i]) > tol.Atol*scale+tol.Rtol*math.Abs(ref[i]) {
				if f < 0 {
					f = i
				}
				n++
			}
		}
		mu.Lock()
		bad += n
		if f >= 0 && f < first {
			first = f
		}
		mu.Unlock()
	})
	if bad == 0 {
		return nil
	}
	firstGot := math.Float32frombits(binary.LittleEndian.Uint32(got[4*first:]))
	return fmt.Errorf("%s: %d of %d elements wrong; first at [%d]: got %g, want %g (atol %g x max|ref| %g, rtol %g)",
		tn.Name, bad, len(ref), first, firstGot, ref[first], tol.Atol, scale, tol.Rtol)
}
