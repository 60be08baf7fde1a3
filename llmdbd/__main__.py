from llmdbd.cli import entry

entry()
