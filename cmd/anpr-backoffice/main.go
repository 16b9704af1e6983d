// Command anpr-backoffice is the force's back office: the HTTPS service cars
// sync to, and the tools to run it (certificates, users, hot lists, audit
// verification, statistics).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main runs one invocation of the command; tests build one with buffers.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
	// Ready, when set, is called by serve with the address it listens on.
	Ready func(addr string)
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func badUsage(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

var errHelp = errors.New("help shown")

// Run dispatches to a subcommand and maps its error to an exit status:
// 0 success, 1 operational failure, 2 bad usage or bad input.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.Now == nil {
		m.Now = time.Now
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(m.Stderr, "anpr-backoffice: unknown command %q; run 'anpr-backoffice --help' for the list.\n", args[0])
		return 2
	}
	err := c.run(ctx, m, args[1:])
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	}
	fmt.Fprintf(m.Stderr, "anpr-backoffice %s: %s\n", c.name, sentence(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprint(w, `anpr-backoffice receives reads, hits and decisions from the patrol cars, publishes
signed hot lists to them, and lets authorised staff search reads under audited,
age-tiered rules.

Usage: anpr-backoffice COMMAND [options] [arguments]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
DSN: a SQLite file path, or postgres://user@host:port/db.
Exit status: 0 success, 1 operational failure, 2 bad usage or bad input.
`)
}

// newFlags returns a flag set whose errors come back as usage errors.
func newFlags(name, usage string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: anpr-backoffice %s\n\n", usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return errHelp
		}
		return badUsage("%v", err)
	}
	return nil
}
