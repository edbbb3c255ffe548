"""Survey-scale scoring and similarity search on a Dask cluster (the optional ``[cluster]`` extra).

The only package that imports ``dask``/``distributed``/``dask_jobqueue``, and only in its own modules:
nothing that views or labels cutouts needs it. The client plans one task per shard (or per chunk of a
large file, :mod:`.units`); each worker loads the model once (:class:`.worker.ModelPlugin`) and writes
one score file per task atomically (:func:`.worker.score_unit`); :mod:`.run` gathers the results,
merges the catalogue (:mod:`.merge`) and writes the summary. :mod:`.search` ranks the run's
embeddings by similarity as map-reduce. The run folder's layout is :mod:`galview.io.cluster_runs`.
"""
