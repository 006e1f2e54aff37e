package jobs

import (
	"context"
	"fmt"
	"time"
)

// StateMoves carries the accounts whose traffic-master state changed into
// the revenue dashboard's per-state figures, and the authorizers added or
// renamed and the days pulled into its per-principal ones;
// internal/postgres implements it.
type StateMoves interface {
	// FoldStateMoves folds the changes recorded since the last fold and
	// returns how many accounts changed state.
	FoldStateMoves(ctx context.Context) (int, error)
	// FoldPrincipalMoves folds the authorizers added, removed or renamed
	// since the last fold and the days pulled since, and returns how many
	// of each it folded.
	FoldPrincipalMoves(ctx context.Context) (moved, days int, err error)
}

// RevenueStateFoldEvery is how often the state changes are folded. A read
// narrowed to a state corrects for each change not folded yet that enters
// or leaves the state, at 15-30 µs per account per day shown (measured at
// 100,000 accounts); a bulk run at the default 5 accounts a second changes
// up to 50 states in ten seconds.
const RevenueStateFoldEvery = 10 * time.Second

// RevenueStateFold is the schedule that folds the state changes into the
// per-state figures: every read narrowed to a state corrects for the
// changes not folded yet, so folding often keeps those reads small.
func RevenueStateFold(every time.Duration, moves StateMoves) Schedule {
	return Schedule{
		Name:        "revenue_state_fold",
		Description: "Carry state changes, new or renamed authorizers, and pulled days into the revenue figures by state and principal",
		Every:       every,
		Do: func(ctx context.Context, _ *Client) (string, error) {
			n, err := moves.FoldStateMoves(ctx)
			if err != nil {
				return "", err
			}
			p, days, err := moves.FoldPrincipalMoves(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d accounts moved to another state, %d authorizers added or renamed, %d days summed per principal", n, p, days), nil
		},
	}
}

// Principals chooses which parts of the principals' names the revenue
// dashboard keeps sums for; internal/postgres implements it.
type Principals interface {
	// ChoosePrincipals chooses them again and returns how many texts and
	// groups it keeps.
	ChoosePrincipals(ctx context.Context) (terms, groups int, err error)
}

// RevenuePrincipalsEvery is how often the principals kept are chosen again.
const RevenuePrincipalsEvery = 24 * time.Hour

// RevenuePrincipalsTimeout bounds one choice: the first at a million
// accounts (35,892 names, 15.7 million members) took 1 min 53 s on a quiet
// machine, longer than the queue's 2 minutes for a job; later ones, which
// keep the groups already summed, about 22 s.
const RevenuePrincipalsTimeout = 4 * time.Minute

// RevenuePrincipals is the schedule that chooses again the parts of the
// principals' names whose sums are kept (names change, and authorizers
// come and go): beside the daily pull, not inside it, since at 100,000
// accounts the choice reads every name's parts for a few seconds. It runs
// when the console starts too: a database migrated from before has none.
func RevenuePrincipals(every time.Duration, p Principals) Schedule {
	return Schedule{
		Name:        "revenue_principals",
		Description: "Choose the principals whose revenue figures are kept summed",
		Every:       every,
		RunOnStart:  true,
		Timeout:     RevenuePrincipalsTimeout,
		Do: func(ctx context.Context, _ *Client) (string, error) {
			terms, groups, err := p.ChoosePrincipals(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d texts of principals kept in %d groups", terms, groups), nil
		},
	}
}
