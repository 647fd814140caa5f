"""Downloads: the streamed body, saving it to a file, and safe filenames."""
