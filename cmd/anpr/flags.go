package main

import (
	"errors"
	"flag"
	"io"

	"github.com/ukanpr/anpr/cmd/internal/cli"
)

// newFlags returns a flag set for an anpr subcommand whose -h prints help to w.
func newFlags(name, usage string, w io.Writer) *flag.FlagSet {
	return cli.NewFlags("anpr", name, usage, w)
}

// parseFlags parses args, printing help on -h and mapping errors to usage
// errors. Flags may follow positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.Usage()
				return errHelp
			}
			return badUsage("%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	// Re-parse only the positionals so fs.Args() reports them.
	return fs.Parse(append([]string{"--"}, positional...))
}
