// Command anpr is the in-car ANPR program: the demo drive, the live app, and
// the fleet admin's tools for hot lists, still images, GPS logs and accuracy.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	_ "github.com/ukanpr/anpr/cmd/anpr/internal/localefix" // before Fyne's init: see the package doc
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

// usageError marks bad usage or bad input: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// badUsage returns an error that exits with status 2.
func badUsage(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// asUsage wraps err so that it exits with status 2.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

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
	err := c.run(ctx, m, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	}
	fmt.Fprintf(m.Stderr, "anpr %s: %s\n", c.name, sentence(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// errHelp is returned by a subcommand that printed its own help.
var errHelp = errors.New("help shown")

// sentence ends an error message with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
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
