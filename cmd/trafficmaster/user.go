package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

const userUsage = `user <create|list|disable|enable> [flags]

  user create -username NAME -role admin|operator|viewer   (password read from standard input)
  user list
  user disable -username NAME
  user enable -username NAME

Uses DATABASE_URL.`

func cmdUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stdout, "Usage: trafficmaster "+userUsage)
		if len(args) == 0 {
			return errors.New("user: give a subcommand")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := newFlags(e, "user "+sub, userUsage)
	username := fs.String("username", "", "the staff member's username")
	role := fs.String("role", "operator", "role: admin, operator or viewer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withDB(ctx, e, func(pool *pgxpool.Pool) error {
		return runUser(ctx, e, pool, sub, *username, *role)
	})
}

// runUser runs the user subcommand sub on the database.
func runUser(ctx context.Context, e env, pool *pgxpool.Pool, sub, username, role string) error {
	store := &postgres.StaffStore{Pool: pool}
	auth := core.NewAuthService(store, store, store, store)
	meta := core.Meta{ClientIP: "cli"}
	switch sub {
	case "create":
		if username == "" {
			return errors.New("user create: -username is required")
		}
		fmt.Fprintln(e.stderr, "Password (read from standard input):")
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("user create: no password on standard input")
		}
		st, err := auth.CreateStaff(ctx, nil, username, strings.TrimRight(line, "\r\n"), core.Role(role), meta)
		if err != nil {
			return errors.New(core.ErrorMessage(err) + detail(err))
		}
		fmt.Fprintf(e.stdout, "created %s (%s)\n", st.Username, st.Role)
	case "list":
		list, err := store.ListStaff(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tUSERNAME\tROLE\tSTATUS\tCREATED")
		for _, s := range list {
			status := "active"
			if s.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", s.ID, s.Username, s.Role, status, s.CreatedAt.Format("2006-01-02 15:04"))
		}
		return w.Flush()
	case "disable", "enable":
		if username == "" {
			return fmt.Errorf("user %s: -username is required", sub)
		}
		st, _, err := store.StaffByUsername(ctx, username)
		if err != nil {
			return errors.New(core.ErrorMessage(err))
		}
		if err := auth.SetDisabled(ctx, nil, st.ID, sub == "disable", meta); err != nil {
			return errors.New(core.ErrorMessage(err) + detail(err))
		}
		fmt.Fprintf(e.stdout, "%sd %s\n", sub, st.Username)
	default:
		return fmt.Errorf("user: unknown subcommand %q (create, list, disable, enable)", sub)
	}
	return nil
}

// detail adds an internal error's text on the command line, where the
// operator is trusted (unlike a web page).
func detail(err error) string {
	if core.ErrorCode(err) == core.EINTERNAL {
		return ": " + err.Error()
	}
	return ""
}
