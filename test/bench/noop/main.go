// Command noop does nothing: bin/detect's baseline in make bench, the cost
// of starting a Go program.
package main

func main() {}
