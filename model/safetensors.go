package model

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// A safetensors file is an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}} (offsets
// relative to the end of the header) and the data. This reader is ours:
// the one Go package for it reads whole files into memory, and checkpoint
// shards are several GB; here a tensor is read at a time.

// checkpoint is the tensors of every *.safetensors file of a directory.
type checkpoint struct {
	files   []*os.File
	tensors map[string]stTensor
}

type stTensor struct {
	file  *os.File
	dtype string
	shape []int
	begin int64 // absolute offsets in file
	end   int64
}

// maxHeader bounds the JSON header a file may claim (the format's own
// limit is 100 MB).
const maxHeader = 100 << 20

// openCheckpoint indexes the tensors of dir's *.safetensors files.
func openCheckpoint(dir string) (*checkpoint, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no *.safetensors files in %s", dir)
	}
	slices.Sort(paths)
	c := &checkpoint{tensors: map[string]stTensor{}}
	for _, p := range paths {
		if err := c.index(p); err != nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return c, nil
}

func (c *checkpoint) index(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	c.files = append(c.files, f)
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil {
		return fmt.Errorf("not a safetensors file: %w", err)
	}
	if n > maxHeader || int64(n)+8 > st.Size() {
		return fmt.Errorf("not a safetensors file: header of %d bytes in a file of %d", n, st.Size())
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return err
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(header, &entries); err != nil {
		return fmt.Errorf("not a safetensors header: %w", err)
	}
	base := 8 + int64(n)
	for name, raw := range entries {
		if name == "__metadata__" {
			continue
		}
		var e struct {
			DType   string  `json:"dtype"`
			Shape   []int   `json:"shape"`
			Offsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil || len(e.Offsets) != 2 {
			return fmt.Errorf("tensor %s: bad header entry %s", name, raw)
		}
		t := stTensor{file: f, dtype: e.DType, shape: e.Shape, begin: base + e.Offsets[0], end: base + e.Offsets[1]}
		size, ok := dtypeSize[e.DType]
		if !ok {
			return fmt.Errorf("tensor %s: dtype %s; only F32, F16 and BF16 are read", name, e.DType)
		}
		if t.end > st.Size() || t.begin > t.end || (t.end-t.begin) != int64(size*elements(e.Shape)) {
			return fmt.Errorf("tensor %s: data offsets %v do not fit its shape %v (%s) or the file", name, e.Offsets, e.Shape, e.DType)
		}
		if _, dup := c.tensors[name]; dup {
			return fmt.Errorf("tensor %s is in two files", name)
		}
		c.tensors[name] = t
	}
	return nil
}

var dtypeSize = map[string]int{"F32": 4, "F16": 2, "BF16": 2}

func elements(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// errMissingTensor marks a tensor the checkpoint does not have.
var errMissingTensor = errors.New("missing tensor")

func (c *checkpoint) has(name string) bool {
	_, ok := c.tensors[name]
	return ok
}

// read returns the named tensor as float32 after checking its shape.
func (c *checkpoint) read(name string, shape []int) ([]float32, error) {
	t, ok := c.tensors[name]
	if !ok {
		return nil, fmt.Errorf("%w %s (want shape %v)", errMissingTensor, name, shape)
	}
	if !slices.Equal(t.shape, shape) {
		return nil, fmt.Errorf("tensor %s has shape %v, want %v", name, t.shape, shape)
	}
	raw := make([]byte, t.end-t.begin)
	if _, err := t.file.ReadAt(raw, t.begin); err != nil {
		return nil, fmt.Errorf("read tensor %s: %w", name, err)
	}
	out := make([]float32, elements(shape))
	for i := range out {
		switch t.dtype {
		case "F32":
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		case "BF16":
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		case "F16":
			out[i] = float16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	}
	return out, nil
}

// float16 converts IEEE half-precision bits to float32 (exactly: every
// half is a float32).
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0: // zero, subnormal: frac * 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

func (c *checkpoint) Close() {
	for _, f := range c.files {
		f.Close()
	}
}
