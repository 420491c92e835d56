"""Getting to AWS: the bundle MWAA, Glue and EMR Serverless receive, the deploy, its configuration
and the Spark runtimes each service runs."""
