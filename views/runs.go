package views

import "github.com/trafficmaster/trafficmaster/internal/traffic"

// groupCount is how many of a run's accounts ended in one outcome group.
type groupCount struct {
	traffic.GroupInfo
	N int
}

// groupCounts sums a run's outcome counts by group, in the table's order.
func groupCounts(m map[string]int) []groupCount {
	var out []groupCount
	for _, g := range traffic.Groups {
		n := 0
		for o, c := range m {
			if traffic.GroupOf(traffic.Outcome(o)) == g.Group {
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
