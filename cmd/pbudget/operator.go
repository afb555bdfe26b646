package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/buildinfo"
	"github.com/pbudget/pbudget/internal/config"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/money"
)

// The operator's commands: councils, their configuration, the health check and the version. They
// print for a person reading a terminal, not JSON log lines.

func councilCmd(ctx context.Context, args []string, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("council: create, list or retire (pbudget help)")
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("council "+sub, flag.ContinueOnError)
	fs.SetOutput(stdout)
	operator := fs.String("actor", app.CouncilActor, "who is acting, for the council's audit trail")
	switch sub {
	case "create":
		code := fs.String("code", "", "the council's code: 2 to 32 lower-case letters, digits and hyphens (tokens name it)")
		name := fs.String("name", "", "the council's name")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if *code == "" || *name == "" {
			return errors.New("council create: --code and --name are required")
		}
		db, err := openDB(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer db.Close()
		r, err := app.CreateCouncil(ctx, db, *code, *name, *operator)
		if err != nil {
			return err
		}
		printCouncilReport(stdout, r)
		return nil
	case "list":
		all := fs.Bool("all", false, "retired councils too")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		db, err := openDB(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer db.Close()
		cs, err := app.ListCouncils(ctx, db)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CODE\tNAME\tSTATUS\tCREATED\tID")
		for _, c := range cs {
			status := "active"
			if c.Retired() {
				if !*all {
					continue
				}
				status = fmt.Sprintf("retired %s: %s", c.RetiredAt.UTC().Format(time.DateOnly), c.RetiredReason)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Code, c.Name, status, c.CreatedAt.UTC().Format(time.DateOnly), c.ID)
		}
		return tw.Flush()
	case "retire":
		code := fs.String("code", "", "the council's code")
		reason := fs.String("reason", "", "why the council leaves the service (kept in its audit trail)")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if *code == "" || *reason == "" {
			return errors.New("council retire: --code and --reason are required")
		}
		db, err := openDB(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer db.Close()
		c, err := app.RetireCouncil(ctx, db, *code, *reason, *operator)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "council %s %q retired on %s: %s\n", c.Code, c.Name, c.RetiredAt.UTC().Format(time.RFC3339), c.RetiredReason)
		fmt.Fprintf(stdout, "  its tokens are refused (401) by every running instance within %s; its records are kept, nothing was deleted\n", council.CacheTTL)
		return nil
	}
	return fmt.Errorf("council: unknown command %q (create, list or retire)", sub)
}

func printCouncilReport(w io.Writer, r app.CouncilReport) {
	c := r.Council
	if r.Created {
		fmt.Fprintf(w, "council %s %q created (id %s)\n", c.Code, c.Name, c.ID)
	} else {
		fmt.Fprintf(w, "council %s %q exists (created %s, id %s)\n", c.Code, c.Name, c.CreatedAt.UTC().Format(time.DateOnly), c.ID)
	}
	st := r.Settings
	fmt.Fprintf(w, "  settings (version %d): approver limit %s a year; direct-payment care-home stays up to %d days (stays less than %d days apart add up); children's short breaks up to %d days a period and %d in 12 months\n",
		st.Version, money.Format(st.ApproverLimitAnnual), st.CareHomeMaxDays, st.CareHomeJoinGapDays, st.ChildShortBreakMaxPerPeriod, st.ChildShortBreakMaxPer12Month)
	for _, t := range r.Tables {
		printEntry(w, "  ", t)
	}
	fmt.Fprintf(w, "  service catalogue: the %d default categories; add the council's own with pbudget load\n", r.Categories)
	if r.Changes() == 0 {
		fmt.Fprintln(w, "nothing changed")
		return
	}
	fmt.Fprintf(w, "next: pbudget load --council %s FILE.yaml (docs/configuration.md), then its first administrator's token (README, \"Running it for councils\")\n", c.Code)
}

func printEntry(w io.Writer, indent string, e app.LoadedEntry) {
	outcomes := make([]string, len(e.Outcomes))
	for i, o := range e.Outcomes {
		outcomes[i] = string(o)
	}
	where := ""
	if e.File != "" {
		where = fmt.Sprintf("%s:%d: ", e.File, e.Line)
	}
	note := ""
	if e.Note != "" {
		note = " (" + e.Note + ")"
	}
	fmt.Fprintf(w, "%s%s%s: %s%s\n", indent, where, e.What, strings.Join(outcomes, " and "), note)
}

func loadCmd(ctx context.Context, args []string, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stdout)
	code := fs.String("council", "", "the council's code")
	operator := fs.String("actor", app.LoadActor, "who is loading, for the council's audit trail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *code == "" || fs.NArg() == 0 {
		return errors.New("load: --council CODE and one or more FILE.yaml (or directories of them) are required")
	}
	files, err := readConfigFiles(fs.Args())
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := app.Load(ctx, db, *code, *operator, files)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "council %s: %d file(s), %d entries, as %s, in one transaction\n", *code, len(files), len(r.Entries), r.Actor)
	for _, e := range r.Entries {
		printEntry(stdout, "  ", e)
	}
	if n := r.Changes(); n > 0 {
		fmt.Fprintf(stdout, "%d change(s), recorded in the council's audit trail (council_configuration.loaded and one event per change)\n", n)
	} else {
		fmt.Fprintln(stdout, "nothing changed: the council's configuration already holds every entry")
	}
	return nil
}

// readConfigFiles reads the named files, and the *.yaml files of the named directories by name.
func readConfigFiles(args []string) ([]app.ConfigFile, error) {
	var out []app.ConfigFile
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		paths := []string{arg}
		if info.IsDir() {
			if paths, err = filepath.Glob(filepath.Join(arg, "*.yaml")); err != nil {
				return nil, err
			}
			sort.Strings(paths)
			if len(paths) == 0 {
				return nil, fmt.Errorf("load: %s has no .yaml files", arg)
			}
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			out = append(out, app.ConfigFile{Path: p, Data: b})
		}
	}
	return out, nil
}

// healthcheckCmd asks the local server's /readyz, for a container's HEALTHCHECK (the image has no
// shell or curl): exit 0 when it answers 200.
func healthcheckCmd(ctx context.Context, args []string, cfg config.Config, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stdout)
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url, err := readyURL(cfg.ListenAddr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d: %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "ready: %s\n", strings.TrimSpace(string(body)))
	return nil
}

// readyURL is the /readyz of a server listening on addr, reached over loopback when it listens
// on every interface.
func readyURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: PB_LISTEN_ADDR %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}

func versionCmd(stdout io.Writer) error {
	fmt.Fprintln(stdout, buildinfo.Get())
	return nil
}
