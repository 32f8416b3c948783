package kernel

import (
	"fmt"
	"regexp"
	"strings"
)

var includeLine = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*include[ \t]*([<"][^>"\n]*[>"]?)`)

// cudaHeaders are the headers NVRTC ships itself; nothing else may be
// included, so that no host file reaches the compiler or its error text.
var cudaHeaders = map[string]bool{
	"cuda_fp16.h": true, "cuda_bf16.h": true, "cuda_fp8.h": true,
	"cooperative_groups.h": true, "cooperative_groups/reduce.h": true,
	"cuda/std/cstdint": true, "cuda/std/limits": true, "cuda/std/type_traits": true,
}

// CheckIncludes refuses a source that includes anything but the dialect's
// own headers: none for OpenCL, NVRTC's for CUDA.
func CheckIncludes(dialect, source string) error {
	for _, m := range includeLine.FindAllStringSubmatch(source, -1) {
		spec := m[1]
		if dialect == "cuda" && strings.HasPrefix(spec, "<") && cudaHeaders[strings.Trim(spec, "<>")] {
			continue
		}
		return fmt.Errorf("#include %s is not allowed: kernels must be self-contained (no host headers)", spec)
	}
	return nil
}

var hostPath = regexp.MustCompile(`(?:/[\w.+\-~]+)+/([\w.+\-]+)`)

// maxLogLines and maxLogBytes bound a compile log kept in a session or a
// prompt: the first errors are the useful ones.
const (
	maxLogLines = 40
	maxLogBytes = 4000
)

// TrimLog shortens a compile log and strips directory paths (the build's
// temp files, the user's home) down to their base names.
func TrimLog(log string) string {
	log = hostPath.ReplaceAllString(strings.ReplaceAll(log, "\r\n", "\n"), "$1")
	lines := strings.Split(strings.TrimSpace(log), "\n")
	cut := false
	if len(lines) > maxLogLines {
		lines, cut = lines[:maxLogLines], true
	}
	out := strings.Join(lines, "\n")
	if len(out) > maxLogBytes {
		out, cut = out[:maxLogBytes], true
	}
	if cut {
		out += "\n[log trimmed]"
	}
	return out
}
