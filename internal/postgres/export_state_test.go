package postgres

// StateRollupDays and StateRollupSlotDays read the per-state rollup
// whatever the filter's principal, for the tests.
var (
	StateRollupDays     = (*RevenueStore).stateRollupDays
	StateRollupSlotDays = (*RevenueStore).stateRollupSlotDays
)
