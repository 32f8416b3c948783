package kernel

import (
	"strings"
	"testing"
)

func TestCheckIncludes(t *testing.T) {
	for _, tc := range []struct {
		name, source string
		refused      string // "" when allowed; else part of the log
	}{
		{"none", "__global__ void k() {}", ""},
		{"fp16", "#include <cuda_fp16.h>\n__global__ void k() {}", ""},
		{"bf16 spaced", "  #  include <cuda_bf16.h>", ""},
		{"fp8", "#include <cuda_fp8.h>", ""},
		{"cooperative groups", "#include <cooperative_groups.h>\n#include <cooperative_groups/reduce.h>", ""},
		{"libcu++", "#include <cuda/std/cmath>", ""},
		{"line comment", "// #include <stdio.h>", ""},
		{"block comment", "/*\n#include <stdio.h>\n*/", ""},
		{"string", `const char* s = "#include <stdio.h>";`, ""},
		{"comment after", "#include <cuda_fp16.h> // half", ""},
		{"system header", "#include <stdio.h>", "line 1: #include <stdio.h> is not allowed"},
		{"no space", "#include<math.h>", "#include <math.h>"},
		{"quoted", `#include "cuda_fp16.h"`, `#include "cuda_fp16.h"`},
		{"macro", "#define H <stdio.h>\n#include H", "line 2: #include H"},
		{"continued", "#\\\ninclude <stdio.h>", "line 1: #include <stdio.h>"},
		{"line numbers after continuation", "#define A \\\n  1\n\n#include <x.h>", "line 4:"},
		{"after block comment", "/* c */ #include <stdio.h>", "<stdio.h>"},
		{"lines kept through comments", "/*\n\n*/\n#include <x.h>", "line 4:"},
		{"digraph", "%:include <stdio.h>", "<stdio.h>"},
		{"include_next", "#include_next <stdlib.h>", "<stdlib.h>"},
		{"import", "#import <x.h>", "<x.h>"},
		{"escape allowed dir", "#include <cuda/std/../../../etc/passwd>", "passwd"},
		{"dir alone", "#include <cuda/std/>", "<cuda/std/>"},
		{"absolute", "#include </usr/include/stdio.h>", "stdio.h"},
		{"empty", "#include", "#include  is not allowed"},
		{"char literal then include", "int x = '\\'';\n#include <x.h>", "line 2:"},
		{"digit separator", "int x = 1'000;\n#include <x.h>", "line 2:"},
		{"trigraph hash", `??=include "/etc/passwd"`, `#include "/etc/passwd"`},
		{"trigraph continuation", "#??/\ninclude </etc/passwd>", "line 1: #include </etc/passwd>"},
		{"question marks in a string", `const char* s = "what??";`, ""},
		{"has_include of an allowed header", "#if __has_include(<cuda_fp16.h>)\n#include <cuda_fp16.h>\n#endif", ""},
		{"has_include of a host file", `#if __has_include("/etc/shadow")`, `line 1: __has_include "/etc/shadow" is not allowed`},
		{"has_include_next", "#if __has_include_next(<stdio.h>)", "__has_include_next <stdio.h>"},
		{"has_include through a macro", "#define PROBE __has_include\n#if PROBE(<x.h>)", "line 1: __has_include  is not allowed"},
		{"has_embed", `#if __has_embed("/etc/hostname")`, `__has_embed "/etc/hostname"`},
		{"identifier containing has_include", "int my__has_include_count = 0;", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckIncludes("cuda", tc.source)
			if tc.refused == "" {
				if err != nil {
					t.Errorf("CheckIncludes(%q) = %v, want nil", tc.source, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.refused) {
				t.Errorf("CheckIncludes(%q) = %v, want an error containing %q", tc.source, err, tc.refused)
			}
		})
	}
}

func TestOpenCLAllowsNoInclude(t *testing.T) {
	for _, src := range []string{"#include <cuda_fp16.h>", "#include \"/etc/passwd\"", "  #  include <stdio.h>",
		"??=include \"/etc/passwd\"", "#if __has_include(<stdio.h>)\n#endif"} {
		if err := CheckIncludes("opencl", src); err == nil || !strings.Contains(err.Error(), "self-contained") {
			t.Errorf("CheckIncludes(opencl, %q) = %v", src, err)
		}
	}
	if err := CheckIncludes("opencl", "// #include <stdio.h>\n__kernel void f() {}"); err != nil {
		t.Errorf("an include in a comment was refused: %v", err)
	}
}
