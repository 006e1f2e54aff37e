package views

import "sort"

// outcomeOrder lists outcomes with counts, largest first, for stable display.
func outcomeOrder(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
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
