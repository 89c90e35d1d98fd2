mkdir hl && echo linked > hl/one && ln hl/one hl/two
