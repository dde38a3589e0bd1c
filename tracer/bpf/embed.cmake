# cmake -DIN=file -DOUT=file.h -DSYM=name -P embed.cmake: writes IN as a C byte array (no xxd needed).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n\t" bytes "${bytes}")
file(WRITE ${OUT}.tmp "/* Generated from ${IN}. */\nstatic const unsigned char ${SYM}[${size} + 1] = {\n\t${bytes}0};\nstatic const unsigned ${SYM}_len = ${size};\n")
file(RENAME ${OUT}.tmp ${OUT})
