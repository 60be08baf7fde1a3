"""Output: the snapshot writer (`snapshot`), publishing into a state directory (`publish`), and the one atomic
file write every part of llmdbd uses (`files`)."""
