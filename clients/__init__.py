"""Standard-library clients that the program and its tools share (urllib, ssl, pyyaml: what
requirements.txt installs; runtime code, so nothing here imports from tools/).

    http     the one HTTP GET (the Kubernetes API, and tools.verify's Mimir, Loki and Tempo)
    kube     the Kubernetes API from a kubeconfig, as kubectl reads it (CA, client certificates,
             tokens, exec credential plugins): the cluster preflight (dynamic/cluster_preflight.py)
             and tools.verify
    redact   every credential a client meets, kept out of what is printed
"""
