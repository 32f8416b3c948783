// Command discover finds faster GPU kernels for the hot operators of real
// models. See README.md.
package main

import (
	"os"
)

func main() { os.Exit(run(os.Args[1:])) }
