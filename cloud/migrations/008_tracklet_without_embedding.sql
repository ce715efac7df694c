-- A camera without appearance (replayed from a detection file, or without Re-ID) ends its
-- tracklets without an embedding (contract v1, optional since then): such a tracklet_end has
-- no quality and no embedding model, and no row in embedding. The stitcher places it by time
-- and floor position alone.
ALTER TABLE tracklet_end ALTER COLUMN quality DROP NOT NULL;
ALTER TABLE tracklet_end ALTER COLUMN embedding_model DROP NOT NULL;
