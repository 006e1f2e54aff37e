package postgres

// StateRollupSlotDays reads the per-state rollup whatever the filter's
// principal, for the tests.
var StateRollupSlotDays = (*RevenueStore).stateRollupSlotDays
