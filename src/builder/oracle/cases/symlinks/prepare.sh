mkdir links && echo t > links/target.txt && ln -s target.txt links/l1 && ln -s ../nowhere links/dangling && mkdir links/sub && ln -s sub links/subl
