-- +goose Up
-- A dump of the database holds no ticket, code or token in clear.
-- The verify ticket is kept encrypted (AES-GCM, like the tokens); the
-- application moves a ticket stored in clear into this column at start,
-- since only it holds the key, and leaves verify_ticket empty.
ALTER TABLE platforms ADD COLUMN verify_ticket_enc bytea;

-- Stored pushes keep what arrived, but not the ticket, the authorization
-- code or the pre-auth code they carried.
UPDATE wechat_events SET decrypted_xml =
    regexp_replace(regexp_replace(regexp_replace(decrypted_xml,
        '<ComponentVerifyTicket>.*?</ComponentVerifyTicket>', '<ComponentVerifyTicket>[redacted]</ComponentVerifyTicket>', 'g'),
        '<AuthorizationCode>.*?</AuthorizationCode>', '<AuthorizationCode>[redacted]</AuthorizationCode>', 'g'),
        '<PreAuthCode>.*?</PreAuthCode>', '<PreAuthCode>[redacted]</PreAuthCode>', 'g')
WHERE decrypted_xml ~ '<(ComponentVerifyTicket|AuthorizationCode|PreAuthCode)>';

-- api_get_authorizer_info's reply repeats the refresh token; it is kept
-- encrypted in refresh_token_enc and nowhere else.
UPDATE authorizers SET raw_info = raw_info
    #- '{authorization_info,authorizer_refresh_token}'
    #- '{authorization_info,authorizer_access_token}'
WHERE raw_info -> 'authorization_info' ?| ARRAY['authorizer_refresh_token', 'authorizer_access_token'];

-- +goose Down
ALTER TABLE platforms DROP COLUMN verify_ticket_enc;
