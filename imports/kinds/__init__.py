"""One module per import kind: its columns, its checker and its committer."""
