/* driver.c: main() for a fuzz harness built without libFuzzer: runs each
 * file named on the command line (or each file in each directory) through
 * LLVMFuzzerTestOneInput once. A crash or a hang fails the test run. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int run_file(const char *path)
{
    static unsigned char buf[1 << 20];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f) {
        perror(path);
        return 1;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

int main(int argc, char **argv)
{
    int count = 0, bad = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            char path[4096];
            while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                    continue;
                snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
                bad += run_file(path);
                count++;
            }
            if (d)
                closedir(d);
        } else {
            bad += run_file(argv[i]);
            count++;
        }
    }
    printf("%d inputs replayed\n", count);
    return bad != 0;
}
