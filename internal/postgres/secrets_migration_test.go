package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/migrations"
)

// Rows stored before migration 00007 held the ticket, codes and refresh
// tokens in clear; its UPDATEs, run again over such rows, clean them.
func TestMigration00007CleansRowsStoredBefore(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `INSERT INTO platforms (component_appid) VALUES ('wxc')`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO wechat_events (component_appid, info_type, dedupe_key, raw_body, decrypted_xml, decoded) VALUES
		('wxc', 'component_verify_ticket', 'a', '', '<xml><ComponentVerifyTicket><![CDATA[ticket@@@old]]></ComponentVerifyTicket></xml>', '{}'),
		('wxc', 'authorized', 'b', '', '<xml><AuthorizationCode><![CDATA[queryauthcode@@@old]]></AuthorizationCode><PreAuthCode><![CDATA[preauthcode@@@old]]></PreAuthCode><AuthorizerAppid>wxa</AuthorizerAppid></xml>', '{}')`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO authorizers (appid, component_appid, raw_info) VALUES ('wxa', 'wxc',
		'{"authorizer_info": {"nick_name": "n"}, "authorization_info": {"authorizer_appid": "wxa", "authorizer_refresh_token": "refreshtoken@@@old"}}')`)
	require.NoError(t, err)

	up, err := migrations.FS.ReadFile("00007_secrets_at_rest.sql")
	require.NoError(t, err)
	var code []string
	for _, line := range strings.Split(strings.Split(string(up), "-- +goose Down")[0], "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			code = append(code, line)
		}
	}
	for _, stmt := range strings.Split(strings.Join(code, "\n"), ";") {
		if strings.Contains(stmt, "UPDATE") {
			_, err := pool.Exec(ctx, stmt)
			require.NoError(t, err)
		}
	}
	var xml string
	rows, err := pool.Query(ctx, "SELECT decrypted_xml FROM wechat_events ORDER BY id")
	require.NoError(t, err)
	var all []string
	for rows.Next() {
		require.NoError(t, rows.Scan(&xml))
		all = append(all, xml)
	}
	require.Equal(t, []string{
		"<xml><ComponentVerifyTicket>[redacted]</ComponentVerifyTicket></xml>",
		"<xml><AuthorizationCode>[redacted]</AuthorizationCode><PreAuthCode>[redacted]</PreAuthCode><AuthorizerAppid>wxa</AuthorizerAppid></xml>",
	}, all)
	var info string
	require.NoError(t, pool.QueryRow(ctx, "SELECT raw_info::text FROM authorizers WHERE appid = 'wxa'").Scan(&info))
	require.NotContains(t, info, "refreshtoken")
	require.Contains(t, info, `"authorizer_appid": "wxa"`, "the rest is kept")
}
