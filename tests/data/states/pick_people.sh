set -e
R=${PEOPLE_REPO:?a clone of github.com/openstates/people}
OUT=$(dirname "$0")/../../../tracker/demo/data/openstates/people
C=f7fb15ba24f2156c2d2ec32ba24f56dd46a3a93f   # 2020-10: contact_details
C2=13c55e899198bac16de0fea5d58c400fe5bf567f  # 2022-02: offices
H=$(git --git-dir=$R/.git rev-parse HEAD 2>/dev/null || git -C $R rev-parse HEAD)
pick() { # commit state kind pattern
  for f in $(git -C $R ls-tree -r --name-only $1 data/$2/$3 | grep -E "$4"); do
    mkdir -p $OUT/$2/$3; git -C $R show $1:$f > $OUT/$2/$3/$(basename $f); echo "$1 $f" >> $OUT/ORIGIN.txt
  done
}
rm -rf $OUT; mkdir -p $OUT; : > $OUT/ORIGIN.txt
pick $C co legislature 'Rhonda-Fields|Leroy-Garcia|Leslie-Herod|Alec-Garnett|Pete-Lee|Julie-Gonzales|Mike-Weissman|Dominique-Jackson|Chris-Hansen|Brittany-Pettersen|Jeff-Bridges|Steven-Woodrow'
pick $C2 co committees 'upper-Judiciary|lower-Judiciary|upper-Appropriations|lower-Appropriations'
pick $C2 nm legislature 'Georgene-Louis|Brian-Egolf|Joseph-Cervantes|Chris-Chandler|Gail-Chasey|Linda-Lopez|Antoinette-Sedillo|Micaela-Lara|Jacob-Candelaria|Bill-Tallman'
pick $H nm committees 'upper-Judiciary|lower-Judiciary'
pick $C2 ma legislature 'Sonia-Chang|William-N-Brownsberger|Karen-E-Spilka|Michael-J-Rodrigues|Michael-S-Day|Aaron-Michlewitz|Liz-Miranda|James-B-Eldridge|Russell-E-Holmes'
pick $H ma committees 'Senate-Committee-on-Ways-and-Means|Joint-Committee-on-the-Judiciary|House-Committee-on-Ways-and-Means'
pick $C2 ny legislature 'Jamaal-Bailey|Brad-Hoylman|Jeffrey-Dinowitz|Charles-Lavine|Jessica-Ramos|Latrice-Walker|Zellnor-Myrie|Jenifer-Rajkumar'
pick $C2 ny committees 'lower-Codes|lower-Judiciary|upper-Codes|upper-Judiciary'
pick $C2 va legislature 'Charniele-L-Herring|Jeffrey-M-Bourne|John-S-Edwards|Mamie-E-Locke|Marcus-B-Simon|Patrick-A-Hope|Scott-A-Surovell-50a6'
pick $H va committees 'upper-Courts-of-Justice|lower-Courts-of-Justice|lower-Public-Safety'
echo HEAD=$H
