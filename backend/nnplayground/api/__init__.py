"""HTTP and websocket routes: one router per module (meta, sessions, ws), shared dependencies in deps."""
