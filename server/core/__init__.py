"""What every layer shares and none owns: principals, errors, ids, the clock, pagination."""
