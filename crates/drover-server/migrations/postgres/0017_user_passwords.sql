-- A user's console password, as its Argon2id hash in PHC form; none: they sign in with tokens only.
ALTER TABLE users ADD COLUMN password_hash TEXT;
