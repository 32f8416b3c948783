package llm

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name      string
		raw       string
		want      []Variant
		malformed int
	}{
		{
			name: "two variants with fences",
			raw: "Here you go.\n---VARIANT---\nREASONING: vectorize by 4\nTHREADGROUP: 128, 1, 1\nGRID: B*D/4, 1, 1\nSOURCE:\n```c\n__kernel void f() {}\n```\n" +
				"---VARIANT---\nREASONING: bigger groups\nspanning two lines\nTHREADGROUP: 512\nSOURCE:\n__kernel void g() {}\n",
			want: []Variant{
				{Reasoning: "vectorize by 4", Threadgroup: [3]int{128, 1, 1}, Grid: []string{"B*D/4"}, Source: "__kernel void f() {}"},
				{Reasoning: "bigger groups\nspanning two lines", Threadgroup: [3]int{512, 1, 1}, Source: "__kernel void g() {}"},
			},
			malformed: 1, // the preamble
		},
		{
			name: "CRLF and missing THREADGROUP",
			raw:  "---VARIANT---\r\nREASONING: x\r\nSOURCE:\r\n```cuda\r\nextern \"C\" __global__ void f() {}\r\n```\r\n",
			want: []Variant{{Reasoning: "x", Source: "extern \"C\" __global__ void f() {}"}},
		},
		{
			name: "a single variant without separator",
			raw:  "**REASONING:** y\n**THREADGROUP:** (64, 1, 1)\n**SOURCE:**\nkernel body",
			want: []Variant{{Reasoning: "y", Threadgroup: [3]int{64, 1, 1}, Source: "kernel body"}},
		},
		{
			// Brackets around the whole field go; an expression's stay.
			name: "bracketed fields and grid expressions",
			raw: "---VARIANT---\nTHREADGROUP: [256, 1, 1]\nGRID: `(B+1)/2*LOCAL`\nSOURCE:\na\n" +
				"---VARIANT---\nGRID: ((B+3)/4*LOCAL, 1, 1)\nSOURCE:\nb\n" +
				"---VARIANT---\nGRID: (B+1)/2*LOCAL, (D+3)/4\nSOURCE:\nc\n",
			want: []Variant{
				{Threadgroup: [3]int{256, 1, 1}, Grid: []string{"(B+1)/2*LOCAL"}, Source: "a"},
				{Grid: []string{"(B+3)/4*LOCAL"}, Source: "b"},
				{Grid: []string{"(B+1)/2*LOCAL", "(D+3)/4"}, Source: "c"},
			},
		},
		{
			name:      "zero variants",
			raw:       "I cannot help with that.",
			malformed: 1,
		},
		{
			name:      "bad threadgroup means the seed's",
			raw:       "---VARIANT---\nTHREADGROUP: lots\nSOURCE:\nk",
			want:      []Variant{{Source: "k"}},
			malformed: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, malformed := Parse(tc.raw)
			if !reflect.DeepEqual(got, tc.want) || malformed != tc.malformed {
				t.Fatalf("Parse =\n%#v, %d\nwant\n%#v, %d", got, malformed, tc.want, tc.malformed)
			}
		})
	}
}

func TestReplayHandsOutResponsesThenExhausts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replay.txt")
	body := "---VARIANT---\nSOURCE:\nA\n===RESPONSE===\nnothing here\n  ===RESPONSE===  \n---VARIANT---\nSOURCE:\nB\n---VARIANT---\nSOURCE:\nC\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	var counts []int
	for {
		resp, err := r.Generate(context.Background(), Request{})
		if err == ErrExhausted {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, len(resp.Variants))
	}
	if !reflect.DeepEqual(counts, []int{1, 0, 2}) {
		t.Fatalf("variants per response = %v, want [1 0 2]", counts)
	}
	if _, err := NewReplay(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "replay") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestMockKeepsTheFunctionAndChangesTheSource(t *testing.T) {
	req := Request{N: 4, Step: 3, Parent: Example{}}
	req.Parent.Spec.Source = "__kernel void f() {}"
	req.Parent.Spec.Threadgroup = [3]int{256, 1, 1}
	resp, err := Mock{}.Generate(context.Background(), req)
	if err != nil || len(resp.Variants) != 4 {
		t.Fatalf("mock: %v, %d variants", err, len(resp.Variants))
	}
	seen := map[string]bool{}
	for _, v := range resp.Variants {
		if !strings.HasSuffix(v.Source, req.Parent.Spec.Source) || seen[v.Source] {
			t.Fatalf("variant source %q", v.Source)
		}
		seen[v.Source] = true
	}
	if resp.Variants[1].Threadgroup[0] != 128 {
		t.Fatalf("odd variants halve the work-group: %v", resp.Variants[1].Threadgroup)
	}
}
