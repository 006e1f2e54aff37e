-- +goose Up
-- Every list page without a search sums account_state_counts, which holds a
-- few hundred live rows but is read whole, dead rows and empty pages
-- included. One transaction that changes a great many list rows (trafficmaster
-- gen's inserts and its derivation of states, a million accounts each) appends
-- a delta row per change that nothing can reclaim until it commits, and the
-- table keeps their pages afterwards: about 3,000,000 dead deltas, 15,000
-- pages and more, made the plain list 34-85 ms at a million accounts where it
-- had been 1.1 ms. (Each fold inside such a transaction also rereads them.)
--
-- tm_recount_state_counts() rebuilds the table from the list rows in a new,
-- compact file (TRUNCATE), with the list rows locked against changes while it
-- counts. Bulk loads pause the count triggers and call it once at the end;
-- run here, it compacts a database such a load already bloated.
-- +goose StatementBegin
CREATE FUNCTION tm_recount_state_counts() RETURNS void LANGUAGE sql AS $$
    LOCK TABLE authorizer_state IN SHARE MODE;
    TRUNCATE account_state_counts;
    INSERT INTO account_state_counts (status_class, state, n)
        SELECT status_class, state, count(*) FROM authorizer_state GROUP BY status_class, state;
$$;
-- +goose StatementEnd
SELECT tm_recount_state_counts();

-- +goose Down
DROP FUNCTION tm_recount_state_counts();
