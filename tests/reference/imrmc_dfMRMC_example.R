# Reference output of FDA's iMRMC (R package) on tests/data/dfMRMC_example.csv.
# Not run by the test suite: its printed numbers are stored in
# tests/reference/imrmc_example.py. To re-run (R >= 3.5 with the Matrix package):
#   R CMD INSTALL -l LIB <DIDSR/iMRMC checkout>/Rpackage/iMRMC
#   Rscript tests/reference/imrmc_dfMRMC_example.R LIB
# (the package's Java jar is not needed: doIMRMC is the pure-R implementation).
arguments <- commandArgs(trailingOnly = TRUE)
library_path <- if (length(arguments) > 0) arguments[1] else .libPaths()[1]
suppressMessages(library(iMRMC, lib.loc = library_path))
cat("iMRMC", as.character(packageVersion("iMRMC", lib.loc = library_path)), "|",
    R.version.string, "\n")
reads <- read.csv("tests/data/dfMRMC_example.csv", stringsAsFactors = FALSE)
result <- doIMRMC(reads)
data(dfMRMC_example, package = "iMRMC", lib.loc = library_path)
same <- isTRUE(all.equal(result$Ustat, doIMRMC(dfMRMC_example)$Ustat, tolerance = 0))
cat("identical to doIMRMC(dfMRMC_example) of the package's own data:", same, "\n")
digits <- function(x) if (is.numeric(x)) sprintf("%.17g", x) else as.character(x)
columns <- c("modalityA", "modalityB", "AUCA", "varAUCA", "AUCB", "varAUCB",
             "AUCAminusAUCB", "varAUCAminusAUCB", "pValueNormal", "botCInormal",
             "topCInormal", "dfBDG", "pValueBDG", "botCIBDG", "topCIBDG")
for (table in c("Ustat", "MLEstat")) {
  rows <- result[[table]]
  for (i in seq_len(nrow(rows))) {
    cat(table, "row", i, ":", paste(columns, sapply(columns, function(n) digits(rows[i, n])),
                                   sep = " = ", collapse = ", "), "\n")
  }
}
readers <- result$perReader[result$perReader$modalityB == "NO_MOD", ]
for (i in seq_len(nrow(readers))) {
  cat("perReader", as.character(readers$readerID[i]), as.character(readers$modalityA[i]), "AUC =", digits(readers$AUCA[i]), "\n")
}
