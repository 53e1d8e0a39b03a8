k
RO
access
d
OW
update
