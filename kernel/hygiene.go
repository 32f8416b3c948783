package kernel

import (
	"regexp"
	"strings"
)

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
