// Runs a fuzz target over its seed corpus (and the crashes found before,
// kept there) in the ordinary builds, gcc and ASan: label `fuzz` in CTest.
// libFuzzer itself needs clang; this keeps every input the fuzzers taught
// us in the suite whatever the compiler.
#include <QByteArray>
#include <QDir>
#include <QFile>

#include <cstdint>
#include <cstdio>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char *argv[])
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const QDir corpus(QString::fromLocal8Bit(argv[1]));
    const QStringList files = corpus.entryList(QDir::Files, QDir::Name);
    for (const QString &name : files) {
        QFile f(corpus.filePath(name));
        if (!f.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "cannot read %s\n", qPrintable(f.fileName()));
            return 1;
        }
        const QByteArray data = f.readAll();
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(data.constData()), size_t(data.size()));
    }
    std::printf("%lld inputs of %s replayed\n", static_cast<long long>(files.size()), argv[1]);
    return files.isEmpty() ? 1 : 0; // an empty corpus tests nothing
}
