"""One module per stage; each reads the previous stage's files and leaves reviewable files of its own."""
