-- Keys the server makes for itself on first use and every instance shares: `feedback` signs the
-- messages a plain form post (JavaScript off) sends back in the page's URL, so a link cannot
-- make a page show text nobody's form produced.
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
