package i18n

import "testing"

// Each English key is translated in exactly one table: two tables naming the
// same key would let the later one silently win (and they have disagreed
// before, 任务 against 定时作业 for "Jobs").
func TestEveryKeyIsDefinedOnce(t *testing.T) {
	t.Parallel()
	where := map[string]int{}
	for i, table := range zhTables {
		for k := range table {
			if j, dup := where[k]; dup {
				t.Errorf("%q is translated in table %d and table %d of zhTables", k, j, i)
			}
			where[k] = i
		}
	}
}
