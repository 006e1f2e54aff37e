-- +goose Up
-- Names sort in pinyin order (阿 before 北 before 茶), in every interface
-- language: the list's name column takes the ICU Chinese collation, so the
-- name indexes, the keyset comparisons and ORDER BY all agree without any
-- change to the queries. A server built without ICU keeps byte order
-- rather than failing to migrate. As in the zh locale, Latin names follow the
-- Chinese ones.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'zh-x-icu' AND collprovider = 'i') THEN
        CREATE COLLATION tm_name FROM "zh-x-icu";
    ELSE
        CREATE COLLATION tm_name FROM "C";
    END IF;
END
$$;
-- +goose StatementEnd
-- The indexes on the column (authorizer_state_name, authorizer_state_state_name)
-- are rebuilt in the new order by this statement.
ALTER TABLE authorizer_state ALTER COLUMN nick_name TYPE text COLLATE tm_name;

-- +goose Down
ALTER TABLE authorizer_state ALTER COLUMN nick_name TYPE text COLLATE "default";
DROP COLLATION tm_name;
