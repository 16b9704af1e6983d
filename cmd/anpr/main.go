// Command anpr is the in-car ANPR program: the demo drive, the live app, and
// the fleet admin's tools for hot lists, still images, GPS logs and accuracy.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	_ "github.com/ukanpr/anpr/cmd/anpr/internal/localefix" // before Fyne's init: see the package doc
	"github.com/ukanpr/anpr/cmd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main runs one invocation of the command; tests build one with buffers.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// command is one subcommand: run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
}

// commands lists every subcommand; each lives in its own file.
var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// The shared frame's names, as this package's code uses them.
var (
	badUsage = cli.BadUsage
	asUsage  = cli.AsUsage
	errHelp  = cli.ErrHelp
)

// Run dispatches to a subcommand and maps its error to an exit status:
// 0 success, 1 operational failure, 2 bad usage or bad input.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(m.Stderr, "anpr: unknown command %q; run 'anpr --help' for the list.\n", args[0])
		return 2
	}
	return cli.Report(m.Stderr, "anpr "+c.name, c.run(ctx, m, args[1:]))
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprint(w, `anpr reads number plates from the patrol car's cameras, geotags each read,
checks it against the hot lists held in the car and alerts the officer on a hit.

Usage: anpr COMMAND [options] [arguments]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Run 'anpr COMMAND --help' for a command's options and examples.
Exit status: 0 success, 1 operational failure, 2 bad usage or bad input.
`)
}
