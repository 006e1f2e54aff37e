package postgres

// MigrateLockID is the advisory lock migrations take, for the tests.
const MigrateLockID = migrateLockID
