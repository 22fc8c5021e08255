-- 0015: the ISIN list of the daily download (docs/isins.md) and what each source's last download left behind
-- (ETag, Last-Modified, SHA-256: an unchanged file is not loaded again, whichever node runs the job).

CREATE TABLE isins (
    isin character varying(12) NOT NULL,
    lei character varying(20),
    country character varying(2) NOT NULL,
    first_seen timestamp with time zone NOT NULL,
    last_seen timestamp with time zone NOT NULL,
    removed_at timestamp with time zone,
    CONSTRAINT pk_isins PRIMARY KEY (isin)
);

CREATE INDEX ix_isins_lei ON isins (lei);

CREATE INDEX ix_isins_country_isin ON isins (country, isin);

CREATE TABLE isin_downloads (
    source_url character varying(2000) NOT NULL,
    etag character varying(500),
    last_modified character varying(100),
    sha256 character varying(64),
    checked_at timestamp with time zone,
    loaded_at timestamp with time zone,
    outcome character varying(20),
    "rows" bigint NOT NULL,
    invalid_rows bigint NOT NULL,
    error character varying(500),
    CONSTRAINT pk_isin_downloads PRIMARY KEY (source_url)
);
