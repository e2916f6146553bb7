"""Pod annotations that annotation autodiscovery watches and AppInstrumentation sets.

One definition, so the collector and the services can never disagree on the names.
"""

SCRAPE = "prometheus.io/scrape"
PORT = "prometheus.io/port"
PATH = "prometheus.io/path"
