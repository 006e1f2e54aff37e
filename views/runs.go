package views

import "github.com/trafficmaster/trafficmaster/internal/core"

// groupCount is how many of a run's accounts ended in one outcome group.
type groupCount struct {
	core.GroupInfo
	N int
}

// groupCounts sums a run's outcome counts by group, in the table's order.
func groupCounts(m map[string]int) []groupCount {
	var out []groupCount
	for _, g := range core.Groups {
		n := 0
		for o, c := range m {
			if core.GroupOf(core.Outcome(o)) == g.Group {
				n += c
			}
		}
		if n > 0 {
			out = append(out, groupCount{g, n})
		}
	}
	return out
}

func jobBadge(state string) string {
	switch state {
	case "completed":
		return "badge ok"
	case "running", "available", "scheduled":
		return "badge info"
	case "retryable":
		return "badge warn"
	}
	return "badge err"
}
