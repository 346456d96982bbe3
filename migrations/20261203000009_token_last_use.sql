-- A token's last use is the newest of its recorded uses (api_token_uses): the column kept beside
-- it cost a second write on every request and could disagree with the record.
ALTER TABLE api_tokens DROP COLUMN last_used_at;
